"""Tests of the Flask app and its database, through the test client and real databases."""
