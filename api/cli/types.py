"""What the command line's parts share: the subcommand registry each part adds itself to."""

import argparse
from typing import TypeAlias

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
