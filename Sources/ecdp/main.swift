print("ecdp")
