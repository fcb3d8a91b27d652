from pricing.cli import main

main()
