# args: 'ij->i'
# >>> stderr
ueajc: error: 'ij->i' is not a model file (.ue); to evaluate an expression use 'ueajc eval EXPR ARG... -o OUT', to inspect one '--emit=STAGE'
# >>> exit 2
