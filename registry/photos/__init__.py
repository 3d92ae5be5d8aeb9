"""Plant photos: pictures foresters take in the field, kept on disk beside the registry."""
