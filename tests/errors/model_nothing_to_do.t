# args: $DIR/missing_bracket.ue
# >>> stderr
ueajc: error: nothing to do: give -o OUT or --emit=STAGE
# >>> exit 2
