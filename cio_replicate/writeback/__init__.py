"""cio_replicate.writeback"""
