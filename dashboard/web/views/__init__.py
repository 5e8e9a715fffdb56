"""Thin blueprints: parse the request, call the store, render a page, a fragment or JSON."""
