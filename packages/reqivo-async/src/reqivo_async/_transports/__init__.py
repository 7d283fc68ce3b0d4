"""Transports: what carries an ``AsyncRequest`` to a server and brings a ``Response`` back."""
