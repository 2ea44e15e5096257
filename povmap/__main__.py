from povmap.cli import main

raise SystemExit(main())
