from gymrun.cli import main

main()
