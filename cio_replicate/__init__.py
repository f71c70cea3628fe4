"""cio-replicate: copy a Customer.io workspace into a relational database, and write back."""

__version__ = "0.1.0"
