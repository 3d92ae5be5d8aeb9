"""The species catalogue: what may be planted and recorded, with names in kk/ru/la/en."""
