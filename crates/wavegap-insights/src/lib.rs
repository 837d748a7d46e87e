//! wavegap-insights
