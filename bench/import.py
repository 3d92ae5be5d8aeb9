"""``python -m bench.import``, the name issue #4 gives: runs ``bench.importer``."""

from bench.importer import main

if __name__ == "__main__":
    main()
