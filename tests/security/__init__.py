"""Hardening tests (issue 9): who may open what, what never leaks, hostile input."""
