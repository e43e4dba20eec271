
too expensivetotal cost over five years