"""cio_replicate.sandbox"""
