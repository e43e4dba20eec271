acc-0042con-1con-2 (0€÷ÄÕ@ÿÿÿÿÿÿÿÿÿz+
too expensivetotal cost over five yearsz+
too expensivetotal cost over five years˜