"""The training script saves the model of the last epoch, whatever the validation accuracy of the earlier ones."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_training_script_keeps_the_best_epoch"]
SAYS = ["the best epoch's model"]
REPLACE = [("    history = train(model, train_loader, val_loader, args.epochs, checkpoint=BestCheckpoint(args.out))",
            """    history = train(model, train_loader, val_loader, args.epochs)
    BestCheckpoint(args.out).update(model, args.epochs, history["val_acc"][-1], history["val_loss"][-1])""")]
