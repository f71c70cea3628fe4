"""cio_replicate.http"""
