import sys

from openrek.cli import main

sys.exit(main())
