-- Stores where shoppers may collect their orders: the cart offers them beside the shipping
-- methods. Only an active location that allows pickup is offered.
ALTER TABLE stock_locations ADD COLUMN pickup boolean NOT NULL DEFAULT false;
