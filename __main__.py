import sys

from deidc.cli import main

sys.exit(main())
