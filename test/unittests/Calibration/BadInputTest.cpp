//===- BadInputTest.cpp - placeholder ---===//
#include "gtest/gtest.h"
