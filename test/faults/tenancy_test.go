package faults

func tenancySpecs() {}
