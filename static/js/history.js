// Undo and redo.
