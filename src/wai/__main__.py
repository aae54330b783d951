from wai.cli import main

main()
