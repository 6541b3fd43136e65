from regdesk.cli import main

raise SystemExit(main())
