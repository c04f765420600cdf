"""One module per `cnnstudio` subcommand (see cnnstudio.cli)."""
