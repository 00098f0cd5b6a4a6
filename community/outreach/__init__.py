"""Outreach (宣传): publicity events, QR sign-in, visit requests, coverage."""
