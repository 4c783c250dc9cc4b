print("mdp")
