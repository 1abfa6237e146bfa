"""Sources: the YAML files that say what to poll, and feed discovery for `monitor sources add`."""
