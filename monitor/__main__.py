from monitor.cli import main

if __name__ == "__main__":  # the model's child process imports this module again
    main()
