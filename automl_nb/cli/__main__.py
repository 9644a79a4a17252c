import sys

from automl_nb.cli import main

sys.exit(main())
