// The side panel's behaviour: forms, rules, objects.
