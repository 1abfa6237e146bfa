"""Story: group reports of one event into a story; link earlier related stories."""
