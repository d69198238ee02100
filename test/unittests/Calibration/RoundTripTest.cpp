//===- RoundTripTest.cpp - placeholder ---===//
#include "gtest/gtest.h"
