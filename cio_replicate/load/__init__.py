"""cio_replicate.load"""
