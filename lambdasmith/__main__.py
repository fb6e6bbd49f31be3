import sys

from lambdasmith.cli import main

sys.exit(main())
