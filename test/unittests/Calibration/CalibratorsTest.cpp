//===- CalibratorsTest.cpp - placeholder ---===//
#include "gtest/gtest.h"
