"""An open sandbox page keeps up with changes made elsewhere: the real kubectl, the API,
another tab (:mod:`.feed` hears them, :mod:`.routes` tells the page and redraws it)."""
