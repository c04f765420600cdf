"""Entry script for the PyInstaller bundle: the same as `cnnstudio gui`."""

import multiprocessing
import sys

from cnnstudio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the training worker is a spawned process
    sys.exit(main(sys.argv[1:] or ["gui"]))
