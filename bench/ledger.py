"""``python -m bench.ledger``, the name issue #7 gives: runs ``bench.nursery``."""

from bench.nursery import main

if __name__ == "__main__":
    main()
