"""What the user gives: YAML files read strictly, the configuration's schema, and scenarios resolved year by
year into validated configurations."""
