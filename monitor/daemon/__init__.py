"""`monitor run`: claim due sources from the database, poll them, feed the pipeline."""
