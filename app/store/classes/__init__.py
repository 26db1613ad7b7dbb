"""Classes: an instructor's sandbox, the students' seats and the class's event log."""
