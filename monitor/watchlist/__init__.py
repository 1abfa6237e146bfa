"""Watchlist: operators' YAML files of actors, keywords and rules, and matching against them."""
