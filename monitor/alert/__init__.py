"""Alert: the outbox of (story, rule, channel) rows, briefings, and the channels that send them."""
