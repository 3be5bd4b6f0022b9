"""``python -m ccanalysis.synth``: see :func:`ccanalysis.synth.main`."""

from ccanalysis.synth import main

raise SystemExit(main())
