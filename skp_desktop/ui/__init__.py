"""Qt only: the main window, table models, delegates, dialogs and workers."""
