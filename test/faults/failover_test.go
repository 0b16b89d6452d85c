package faults

func failoverSpecs() {}
