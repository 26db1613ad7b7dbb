"""The classroom's rules, pure: join codes and display names, a student's progress as the
instructor's dashboard shows it, when a student counts as stuck, the quiz histogram, the
export, and the QR code students scan. Where classes are kept is :mod:`app.store.classes`."""
