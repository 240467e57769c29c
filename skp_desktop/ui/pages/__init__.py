"""One page class per place in the main window."""
