"""Reference jobs: gas, coal and CO2 prices."""
